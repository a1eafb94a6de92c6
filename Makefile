# Thin front door (DESIGN.md §3). CMake + Ninja do the work beneath.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA_DIR ?= $(CURDIR)/data

.PHONY: deps build run test bench clean

deps:
	@scripts/install-deps

$(BUILD_DIR)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	@mkdir -p $(DATA_DIR)
	@echo "sluice: data in $(DATA_DIR)"
	$(BUILD_DIR)/sluice broker --set listeners=PLAINTEXT://127.0.0.1:9092 --set log.dirs=$(DATA_DIR)

test: build
	scripts/run-tests $(BUILD_DIR)

bench: build
	scripts/run-bench $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
