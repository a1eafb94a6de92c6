# Thin front door (DESIGN.md §3). CMake + Ninja do the work beneath.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DATA_DIR ?= $(CURDIR)/data

.PHONY: deps build run cluster test bench clean

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

# A local 3-broker cluster with its own ZooKeeper, in the foreground until Ctrl-C. ZooKeeper
# listens on 2182: Debian's zookeeperd package may already run a system ZooKeeper on 2181.
ZOOKEEPER_PORT ?= 2182
cluster: build
	scripts/local_cluster.py --brokers 3 --first-port 9092 --zookeeper-port $(ZOOKEEPER_PORT) \
	  --data $(DATA_DIR)/cluster --build-dir $(BUILD_DIR)

test: build
	scripts/run-tests $(BUILD_DIR)

bench: build
	scripts/run-bench $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
