#include "coordinator/group/group_manager.h"

#include <gtest/gtest.h>

#include "coordinator/testing/group_manager_fixture.h"
#include "coordinator/testing/memory_partition.h"

namespace sluice::coordinator::group {
namespace {


constexpr int32_t P = 7;

std::vector<uint8_t> b(const std::string& s) { return {s.begin(), s.end()}; }

struct fixture : testing::group_manager_fixture {
  fixture() : group_manager_fixture(P) {}

  struct join_slot {
    bool done = false;
    join_response r;
  };
  std::shared_ptr<join_slot> join(const std::string& member, std::vector<protocol_entry> protocols = {{"range", b("m")}},
                                  std::optional<std::string> instance = std::nullopt, int32_t session = 1000,
                                  int32_t rebalance = 5000, bool v4 = false, std::string type = "consumer") {
    join_request req;
    req.group_id = "g";
    req.member_id = member;
    req.group_instance_id = instance;
    req.session_timeout_ms = session;
    req.rebalance_timeout_ms = rebalance;
    req.protocol_type = type;
    req.protocols = std::move(protocols);
    req.client_id = "client";
    req.client_host = "/127.0.0.1";
    req.require_known_member_id = v4;
    auto slot = std::make_shared<join_slot>();
    gm->join(P, req, [slot](join_response r) {
      EXPECT_FALSE(slot->done) << "join answered twice";
      slot->done = true;
      slot->r = std::move(r);
    });
    return slot;
  }
  struct sync_slot {
    bool done = false;
    sync_response r;
  };
  std::shared_ptr<sync_slot> sync(const std::string& member, int32_t gen,
                                  std::vector<std::pair<std::string, std::vector<uint8_t>>> a = {},
                                  std::optional<std::string> instance = std::nullopt) {
    sync_request req;
    req.group_id = "g";
    req.generation_id = gen;
    req.member_id = member;
    req.group_instance_id = instance;
    req.assignments = std::move(a);
    auto slot = std::make_shared<sync_slot>();
    gm->sync(P, req, [slot](sync_response r) {
      EXPECT_FALSE(slot->done) << "sync answered twice";
      slot->done = true;
      slot->r = std::move(r);
    });
    return slot;
  }
  errc heartbeat(const std::string& member, int32_t gen, std::optional<std::string> instance = std::nullopt) {
    return gm->heartbeat(P, {"g", gen, member, instance});
  }
  struct commit_slot {
    bool done = false;
    std::vector<errc> r;
  };
  // A commit whose answer may wait for replication (memory_log::hold).
  std::shared_ptr<commit_slot> commit_async(const commit_request& req) {
    auto slot = std::make_shared<commit_slot>();
    gm->commit(P, req, [slot](std::vector<errc> r) {
      EXPECT_FALSE(slot->done) << "commit answered twice";
      slot->done = true;
      slot->r = std::move(r);
    });
    return slot;
  }
  // A commit answered at once (the store replicates immediately).
  std::vector<errc> commit(const commit_request& req) {
    auto slot = commit_async(req);
    EXPECT_TRUE(slot->done) << "commit not answered";
    return slot->r;
  }
  std::string state() { return gm->describe(P, "g").state; }
  void advance(int64_t ms) {
    clock.advance_ms(ms);
    gm->tick();
  }
  // One member joins a fresh group and syncs with assignment "A".
  std::string stable_single(const std::string& assignment = "A") {
    auto j = join("");
    EXPECT_TRUE(j->done);
    EXPECT_EQ(j->r.error, errc::none);
    auto s = sync(j->r.member_id, j->r.generation_id, {{j->r.member_id, b(assignment)}});
    EXPECT_TRUE(s->done);
    return j->r.member_id;
  }
};

TEST_F(fixture, SingleMemberJoinSyncHeartbeat) {
  auto j = join("");
  ASSERT_TRUE(j->done);
  EXPECT_EQ(j->r.error, errc::none);
  EXPECT_EQ(j->r.generation_id, 1);
  EXPECT_EQ(j->r.protocol_name, "range");
  EXPECT_EQ(j->r.leader, j->r.member_id);
  EXPECT_EQ(j->r.member_id.rfind("client-", 0), 0u);
  ASSERT_EQ(j->r.members.size(), 1u);
  EXPECT_EQ(j->r.members[0].metadata, b("m"));
  EXPECT_EQ(state(), "CompletingRebalance");
  auto s = sync(j->r.member_id, 1, {{j->r.member_id, b("A")}});
  ASSERT_TRUE(s->done);
  EXPECT_EQ(s->r.error, errc::none);
  EXPECT_EQ(s->r.assignment, b("A"));
  EXPECT_EQ(state(), "Stable");
  EXPECT_EQ(heartbeat(j->r.member_id, 1), errc::none);
  EXPECT_EQ(heartbeat(j->r.member_id, 0), errc::illegal_generation);
  EXPECT_EQ(heartbeat("nobody", 1), errc::unknown_member_id);
  auto d = gm->describe(P, "g");
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].assignment, b("A"));
  EXPECT_EQ(d.protocol, "range");
}

TEST_F(fixture, MemberIdRequiredFromV4) {
  auto j = join("", {{"range", b("m")}}, std::nullopt, 1000, 5000, true);
  ASSERT_TRUE(j->done);
  EXPECT_EQ(j->r.error, errc::member_id_required);
  ASSERT_FALSE(j->r.member_id.empty());
  EXPECT_EQ(state(), "Empty");
  auto j2 = join(j->r.member_id, {{"range", b("m")}}, std::nullopt, 1000, 5000, true);
  ASSERT_TRUE(j2->done);
  EXPECT_EQ(j2->r.error, errc::none);
  EXPECT_EQ(j2->r.member_id, j->r.member_id);
  // An id never handed out is unknown.
  auto j3 = join("made-up", {{"range", b("m")}}, std::nullopt, 1000, 5000, true);
  EXPECT_EQ(j3->r.error, errc::unknown_member_id);
}

TEST_F(fixture, TwoMembersFollowerWaitsForLeaderAssignment) {
  auto a = stable_single("A");
  // A second member triggers a rebalance; its join waits for the first to rejoin.
  auto jb = join("");
  EXPECT_FALSE(jb->done);
  EXPECT_EQ(state(), "PreparingRebalance");
  EXPECT_EQ(heartbeat(a, 1), errc::rebalance_in_progress);
  auto ja = join(a);
  ASSERT_TRUE(ja->done && jb->done);
  EXPECT_EQ(ja->r.generation_id, 2);
  EXPECT_EQ(jb->r.generation_id, 2);
  EXPECT_EQ(ja->r.leader, a);
  EXPECT_EQ(ja->r.members.size(), 2u);
  EXPECT_TRUE(jb->r.members.empty());
  auto b_id = jb->r.member_id;
  auto sb = sync(b_id, 2);
  EXPECT_FALSE(sb->done);
  auto sa = sync(a, 2, {{a, b("pa")}, {b_id, b("pb")}});
  ASSERT_TRUE(sa->done && sb->done);
  EXPECT_EQ(sa->r.assignment, b("pa"));
  EXPECT_EQ(sb->r.assignment, b("pb"));
  EXPECT_EQ(state(), "Stable");
  // Old generation is fenced everywhere.
  EXPECT_EQ(heartbeat(a, 1), errc::illegal_generation);
  EXPECT_EQ(sync(a, 1)->r.error, errc::illegal_generation);
  commit_request c{"g", 1, a, std::nullopt, {{"t", 0, 5, -1, std::nullopt}}};
  EXPECT_EQ(commit(c)[0], errc::illegal_generation);
}

TEST_F(fixture, SessionTimeoutRemovesMemberAndRebalances) {
  auto a = stable_single();
  auto jb = join("");
  auto ja = join(a);
  ASSERT_TRUE(jb->done && ja->done);
  auto b_id = jb->r.member_id;
  sync(a, 2, {{a, b("pa")}, {b_id, b("pb")}});
  sync(b_id, 2);
  // a heartbeats, b goes silent.
  for (int i = 0; i < 5; ++i) {
    advance(300);
    EXPECT_EQ(heartbeat(a, 2), i < 3 ? errc::none : errc::rebalance_in_progress) << i;
  }
  EXPECT_EQ(state(), "PreparingRebalance");
  EXPECT_EQ(heartbeat(b_id, 2), errc::unknown_member_id);
  auto ja3 = join(a);
  ASSERT_TRUE(ja3->done);
  EXPECT_EQ(ja3->r.generation_id, 3);
  EXPECT_EQ(ja3->r.members.size(), 1u);
}

TEST_F(fixture, RebalanceTimeoutDropsMembersThatDoNotRejoin) {
  auto a = stable_single();
  auto jb = join("");
  ASSERT_FALSE(jb->done);
  // a keeps heartbeating (so no session timeout) but never rejoins: after the rebalance
  // timeout (5000) the rebalance completes without it.
  for (int i = 0; i < 10; ++i) {
    advance(400);
    heartbeat(a, 1);
  }
  EXPECT_FALSE(jb->done);
  advance(1100);
  ASSERT_TRUE(jb->done);
  EXPECT_EQ(jb->r.error, errc::none);
  EXPECT_EQ(jb->r.generation_id, 2);
  EXPECT_EQ(jb->r.leader, jb->r.member_id);
  EXPECT_EQ(heartbeat(a, 2), errc::unknown_member_id);
}

TEST_F(fixture, LeaveGroupTriggersRebalanceAndEmptiesGroup) {
  auto a = stable_single();
  auto r = gm->leave(P, "g", {{a, std::nullopt}, {"ghost", std::nullopt}});
  EXPECT_EQ(r.error, errc::none);
  ASSERT_EQ(r.member_errors.size(), 2u);
  EXPECT_EQ(r.member_errors[0], errc::none);
  EXPECT_EQ(r.member_errors[1], errc::unknown_member_id);
  EXPECT_EQ(state(), "Empty");
  EXPECT_EQ(gm->leave(P, "nope", {{a, std::nullopt}}).member_errors[0], errc::unknown_member_id);
}

TEST_F(fixture, InconsistentGroupProtocol) {
  stable_single();
  EXPECT_EQ(join("", {{"roundrobin", b("x")}})->r.error, errc::inconsistent_group_protocol);
  EXPECT_EQ(join("", {{"range", b("x")}}, std::nullopt, 1000, 5000, false, "connect")->r.error,
            errc::inconsistent_group_protocol);
  // An empty group needs a protocol type and at least one protocol.
  join_request req;
  req.group_id = "other";
  req.session_timeout_ms = 1000;
  req.protocol_type = "consumer";
  errc got = errc::none;
  gm->join(P, req, [&](join_response r) { got = r.error; });
  EXPECT_EQ(got, errc::inconsistent_group_protocol);
}

TEST_F(fixture, ProtocolSelectionPicksCommonMostPreferred) {
  cfg.initial_rebalance_delay_ms = 100;
  restart();
  auto j1 = join("", {{"range", b("1")}, {"roundrobin", b("1")}});
  auto j2 = join("", {{"roundrobin", b("2")}, {"range", b("2")}});
  auto j3 = join("", {{"roundrobin", b("3")}, {"cooperative-sticky", b("3")}});
  EXPECT_FALSE(j1->done);
  advance(100);  // members arrived during the first delay: it is extended once more
  EXPECT_FALSE(j1->done);
  advance(100);
  ASSERT_TRUE(j1->done && j2->done && j3->done);
  EXPECT_EQ(j1->r.protocol_name, "roundrobin");
  EXPECT_EQ(j1->r.generation_id, 1);
  const auto& leader = j1->r.leader;
  auto& lj = leader == j1->r.member_id ? j1 : (leader == j2->r.member_id ? j2 : j3);
  ASSERT_EQ(lj->r.members.size(), 3u);
  for (const auto& m : lj->r.members) EXPECT_EQ(m.metadata.size(), 1u);
}

TEST_F(fixture, InitialDelayExtendsWhileMembersArrive) {
  cfg.initial_rebalance_delay_ms = 300;
  restart();
  auto j1 = join("", {{"range", b("1")}}, std::nullopt, 1000, 1000);
  advance(200);
  auto j2 = join("");
  advance(150);  // 350: first delay over, but a member arrived: extended by min(300, 700)
  EXPECT_FALSE(j1->done);
  advance(300);
  ASSERT_TRUE(j1->done && j2->done);
  EXPECT_EQ(j1->r.generation_id, 1);
}

TEST_F(fixture, InvalidSessionTimeout) {
  EXPECT_EQ(join("", {{"range", b("m")}}, std::nullopt, 50)->r.error, errc::invalid_session_timeout);
  EXPECT_EQ(join("", {{"range", b("m")}}, std::nullopt, 1800001)->r.error, errc::invalid_session_timeout);
}

TEST_F(fixture, GroupMaxSize) {
  cfg.max_size = 2;
  restart();
  auto a = stable_single();
  auto jb = join("");
  auto jc = join("");
  ASSERT_TRUE(jc->done);
  EXPECT_EQ(jc->r.error, errc::group_max_size_reached);
  join(a);
  EXPECT_TRUE(jb->done);
  EXPECT_EQ(jb->r.error, errc::none);
}

TEST_F(fixture, StaticMemberRejoinKeepsAssignmentWithoutRebalance) {
  auto j1 = join("", {{"range", b("1")}}, std::string("i1"));
  ASSERT_TRUE(j1->done);
  auto old_id = j1->r.member_id;
  EXPECT_EQ(old_id.rfind("i1-", 0), 0u);
  auto s = sync(old_id, 1, {{old_id, b("A")}}, std::string("i1"));
  ASSERT_EQ(s->r.error, errc::none);
  // Restarted with the same group.instance.id: new member id, same generation, no rebalance.
  auto j2 = join("", {{"range", b("1")}}, std::string("i1"));
  ASSERT_TRUE(j2->done);
  EXPECT_EQ(j2->r.error, errc::none);
  EXPECT_NE(j2->r.member_id, old_id);
  EXPECT_EQ(j2->r.generation_id, 1);
  EXPECT_EQ(j2->r.leader, old_id);  // not itself: it must not recompute the assignment
  EXPECT_EQ(state(), "Stable");
  auto s2 = sync(j2->r.member_id, 1, {}, std::string("i1"));
  ASSERT_TRUE(s2->done);
  EXPECT_EQ(s2->r.assignment, b("A"));
  // The old incarnation is fenced.
  EXPECT_EQ(heartbeat(old_id, 1, std::string("i1")), errc::fenced_instance_id);
  EXPECT_EQ(heartbeat(j2->r.member_id, 1, std::string("i1")), errc::none);
}

TEST_F(fixture, StaticMemberSurvivesRebalanceTimeoutButNotSessionTimeout) {
  auto j1 = join("", {{"range", b("1")}}, std::string("i1"), 2000, 500);
  auto s1 = sync(j1->r.member_id, 1, {{j1->r.member_id, b("A")}}, std::string("i1"));
  auto j2 = join("", {{"range", b("2")}}, std::nullopt, 2000, 500);
  EXPECT_FALSE(j2->done);
  advance(600);  // rebalance timeout: the static member stays, the join completes
  ASSERT_TRUE(j2->done);
  EXPECT_EQ(j2->r.generation_id, 2);
  EXPECT_EQ(gm->describe(P, "g").members.size(), 2u);
  advance(1500);  // session timeout of the silent static member
  EXPECT_EQ(heartbeat(j1->r.member_id, 2, std::string("i1")), errc::unknown_member_id);
}

TEST_F(fixture, CommitFetchAndReloadAfterRestart) {
  auto a = stable_single("A");
  commit_request c{"g", 1, a, std::nullopt, {{"t", 0, 10, 3, std::string("meta")}, {"t", 1, 20, -1, std::nullopt}}};
  auto errs = commit(c);
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_EQ(errs[0], errc::none);
  EXPECT_EQ(errs[1], errc::none);
  auto f = gm->fetch_offsets(P, "g", std::vector<topic_partition_id>{{"t", 0}, {"t", 1}, {"t", 2}});
  ASSERT_EQ(f.offsets.size(), 3u);
  EXPECT_EQ(f.offsets[0].offset, 10);
  EXPECT_EQ(f.offsets[0].leader_epoch, 3);
  EXPECT_EQ(f.offsets[0].metadata, "meta");
  EXPECT_EQ(f.offsets[1].offset, 20);
  EXPECT_EQ(f.offsets[2].offset, -1);

  restart();
  f = gm->fetch_offsets(P, "g", std::nullopt);
  ASSERT_EQ(f.offsets.size(), 2u);
  EXPECT_EQ(f.offsets[0].offset, 10);
  EXPECT_EQ(f.offsets[1].offset, 20);
  // The group came back stable with its member and assignment.
  auto d = gm->describe(P, "g");
  EXPECT_EQ(d.state, "Stable");
  ASSERT_EQ(d.members.size(), 1u);
  EXPECT_EQ(d.members[0].member_id, a);
  EXPECT_EQ(d.members[0].assignment, b("A"));
  EXPECT_EQ(heartbeat(a, 1), errc::none);
}

TEST_F(fixture, CommitRulesAndStandaloneGroups) {
  // Unknown group, generation >= 0: rejected; generation -1: an offsets-only group.
  commit_request c{"solo", 3, "m", std::nullopt, {{"t", 0, 1, -1, std::nullopt}}};
  EXPECT_EQ(commit(c)[0], errc::illegal_generation);
  c.generation_id = -1;
  c.member_id = "";
  EXPECT_EQ(commit(c)[0], errc::none);
  EXPECT_EQ(gm->fetch_offsets(P, "solo", std::nullopt).offsets.at(0).offset, 1);
  // Metadata too large for one partition, the other commits.
  cfg.offset_metadata_max_bytes = 4;
  restart();
  commit_request big{"solo", -1, "", std::nullopt, {{"t", 0, 2, -1, std::string("12345")}, {"t", 1, 3, -1, std::nullopt}}};
  auto e = commit(big);
  EXPECT_EQ(e[0], errc::offset_metadata_too_large);
  EXPECT_EQ(e[1], errc::none);
  // A failing write is not acknowledged and not visible.
  log->fail = true;
  commit_request again{"solo", -1, "", std::nullopt, {{"t", 0, 99, -1, std::nullopt}}};
  EXPECT_NE(commit(again)[0], errc::none);
  log->fail = false;
  EXPECT_EQ(gm->fetch_offsets(P, "solo", std::vector<topic_partition_id>{{"t", 0}}).offsets.at(0).offset, 1);
  // During the sync phase commits wait for the new generation.
  auto j = join("");
  commit_request during{"g", 1, j->r.member_id, std::nullopt, {{"t", 0, 1, -1, std::nullopt}}};
  EXPECT_EQ(commit(during)[0], errc::rebalance_in_progress);
}

TEST_F(fixture, LoadingAndNotCoordinator) {
  group_manager other(cfg, clock);
  EXPECT_EQ(other.heartbeat(P, {"g", 1, "m", std::nullopt}), errc::not_coordinator);
  other.begin_loading(P);
  EXPECT_EQ(other.heartbeat(P, {"g", 1, "m", std::nullopt}), errc::coordinator_load_in_progress);
  EXPECT_EQ(other.fetch_offsets(P, "g", std::nullopt).error, errc::coordinator_load_in_progress);
}

TEST_F(fixture, DeleteGroupWritesTombstones) {
  auto a = stable_single();
  commit({"g", 1, a, std::nullopt, {{"t", 0, 10, -1, std::nullopt}}});
  EXPECT_EQ(gm->delete_group(P, "g"), errc::non_empty_group);
  EXPECT_EQ(gm->delete_group(P, "nope"), errc::group_id_not_found);
  gm->leave(P, "g", {{a, std::nullopt}});
  EXPECT_EQ(gm->delete_group(P, "g"), errc::none);
  EXPECT_EQ(gm->describe(P, "g").state, "Dead");
  restart();
  EXPECT_EQ(gm->describe(P, "g").state, "Dead");
  EXPECT_EQ(gm->fetch_offsets(P, "g", std::vector<topic_partition_id>{{"t", 0}}).offsets.at(0).offset, -1);
  EXPECT_EQ(gm->group_count(), 0u);
}

TEST_F(fixture, OffsetDeleteRespectsSubscriptions) {
  // Subscription metadata: version 0, topics ["t"], userdata null.
  std::vector<uint8_t> sub = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0xff, 0xff, 0xff, 0xff};
  auto j = join("", {{"range", sub}});
  sync(j->r.member_id, 1, {{j->r.member_id, b("A")}});
  auto a = j->r.member_id;
  commit({"g", 1, a, std::nullopt, {{"t", 0, 1, -1, std::nullopt}, {"u", 0, 2, -1, std::nullopt}}});
  auto r = gm->delete_offsets(P, "g", {{"t", 0}, {"u", 0}});
  EXPECT_EQ(r.error, errc::none);
  ASSERT_EQ(r.partition_errors.size(), 2u);
  EXPECT_EQ(r.partition_errors[0], errc::group_subscribed_to_topic);
  EXPECT_EQ(r.partition_errors[1], errc::none);
  restart();
  auto f = gm->fetch_offsets(P, "g", std::nullopt);
  ASSERT_EQ(f.offsets.size(), 1u);
  EXPECT_EQ(f.offsets[0].topic, "t");
  EXPECT_EQ(gm->delete_offsets(P, "missing", {{"t", 0}}).error, errc::group_id_not_found);
}

TEST_F(fixture, OffsetsExpireAfterGroupEmptyForRetention) {
  cfg.offsets_retention_ms = 60000;
  cfg.retention_check_interval_ms = 1000;
  restart();
  auto a = stable_single();
  commit({"g", 1, a, std::nullopt, {{"t", 0, 10, -1, std::nullopt}}});
  gm->leave(P, "g", {{a, std::nullopt}});
  EXPECT_EQ(state(), "Empty");
  advance(30000);
  EXPECT_EQ(gm->fetch_offsets(P, "g", std::nullopt).offsets.size(), 1u);
  advance(31000);
  EXPECT_EQ(gm->fetch_offsets(P, "g", std::nullopt).offsets.size(), 0u);
  EXPECT_EQ(state(), "Dead");
  restart();
  EXPECT_EQ(gm->group_count(), 0u);
}

TEST_F(fixture, ListGroupsWithStateFilter) {
  stable_single();
  commit({"solo", -1, "", std::nullopt, {{"t", 0, 1, -1, std::nullopt}}});
  auto all = gm->list({});
  EXPECT_EQ(all.size(), 2u);
  auto stable = gm->list({"stable"});
  ASSERT_EQ(stable.size(), 1u);
  EXPECT_EQ(stable[0].group_id, "g");
  EXPECT_EQ(stable[0].protocol_type, "consumer");
  auto empty = gm->list({"Empty"});
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0].group_id, "solo");
}

TEST_F(fixture, SyncTimeoutRemovesMembersThatNeverSync) {
  // Long sessions, rebalance timeout 5000: only the sync deadline can remove b.
  auto ja1 = join("", {{"range", b("m")}}, std::nullopt, 60000, 5000);
  auto a = ja1->r.member_id;
  sync(a, 1, {{a, b("A")}});
  auto jb = join("", {{"range", b("m")}}, std::nullopt, 60000, 5000);
  auto ja = join(a, {{"range", b("m")}}, std::nullopt, 60000, 5000);
  ASSERT_TRUE(ja->done && jb->done);
  // Only the leader syncs; b never does.
  auto sa = sync(a, 2, {{a, b("pa")}, {jb->r.member_id, b("pb")}});
  ASSERT_TRUE(sa->done);
  EXPECT_EQ(state(), "Stable");
  advance(4000);
  EXPECT_EQ(heartbeat(jb->r.member_id, 2), errc::none);  // heartbeats do not replace SyncGroup
  advance(1100);
  EXPECT_EQ(state(), "PreparingRebalance");
  EXPECT_EQ(heartbeat(jb->r.member_id, 2), errc::unknown_member_id);
  EXPECT_EQ(heartbeat(a, 2), errc::rebalance_in_progress);
}

// ---- writes wait for replication (Kafka appends group writes with acks=-1) ----------------------

int64_t committed(group_manager& gm, const std::string& group, const std::string& topic, int32_t partition) {
  return gm.fetch_offsets(P, group, std::vector<topic_partition_id>{{topic, partition}}).offsets.at(0).offset;
}

TEST_F(fixture, CommitIsAnsweredAndVisibleOnlyOnceReplicated) {
  log->hold = true;
  auto c = commit_async({"solo", -1, "", std::nullopt, {{"t", 0, 42, -1, std::nullopt}, {"t", 1, 7, -1, std::nullopt}}});
  // Appended (two records in the log) but not replicated: no answer, not visible.
  EXPECT_FALSE(c->done);
  EXPECT_EQ(log->records.size(), 2u);
  ASSERT_EQ(log->held.size(), 1u);
  EXPECT_EQ(log->held[0].first, 2);  // waits for the batch's last offset + 1
  EXPECT_EQ(committed(*gm, "solo", "t", 0), -1);
  log->release();
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->r, (std::vector<errc>{errc::none, errc::none}));
  EXPECT_EQ(committed(*gm, "solo", "t", 0), 42);
  EXPECT_EQ(committed(*gm, "solo", "t", 1), 7);
}

TEST_F(fixture, CommitWriteErrorsMapAsKafkaStoreOffsets) {
  cfg.offset_metadata_max_bytes = 2;
  restart();
  commit({"solo", -1, "", std::nullopt, {{"t", 0, 1, -1, std::nullopt}}});
  // Replication failures after the append: nothing changes, the mapped error is answered.
  const std::vector<std::pair<write_errc, errc>> after = {
      {write_errc::timed_out, errc::coordinator_not_available},
      {write_errc::not_enough_replicas_after_append, errc::coordinator_not_available},
      {write_errc::not_leader, errc::not_coordinator},
  };
  log->hold = true;
  for (auto [we, want] : after) {
    auto c = commit_async({"solo", -1, "", std::nullopt, {{"t", 0, 99, -1, std::nullopt}}});
    ASSERT_FALSE(c->done);
    log->release(make_error_code(we));
    ASSERT_TRUE(c->done);
    EXPECT_EQ(c->r.at(0), want) << make_error_code(we).message();
    EXPECT_EQ(committed(*gm, "solo", "t", 0), 1);
  }
  log->hold = false;
  // Append failures: answered at once.
  const std::vector<std::pair<write_errc, errc>> at_append = {
      {write_errc::not_enough_replicas, errc::coordinator_not_available},
      {write_errc::unknown_partition, errc::coordinator_not_available},
      {write_errc::too_large, errc::invalid_commit_offset_size},
      {write_errc::not_leader, errc::not_coordinator},
      {write_errc::storage_error, errc::not_coordinator},
  };
  log->fail = true;
  for (auto [we, want] : at_append) {
    log->fail_with = we;
    // A partition rejected for its metadata keeps its own error.
    auto e = commit({"solo", -1, "", std::nullopt, {{"t", 0, 99, -1, std::nullopt}, {"t", 1, 5, -1, std::string("xyz")}}});
    EXPECT_EQ(e, (std::vector<errc>{want, errc::offset_metadata_too_large})) << make_error_code(we).message();
  }
  log->fail = false;
  EXPECT_EQ(committed(*gm, "solo", "t", 0), 1);
}

TEST_F(fixture, UnloadAnswersCommitsWaitingForReplication) {
  log->hold = true;
  auto c = commit_async({"solo", -1, "", std::nullopt, {{"t", 0, 5, -1, std::nullopt}}});
  ASSERT_FALSE(c->done);
  gm->unload(P);
  ASSERT_TRUE(c->done);
  EXPECT_EQ(c->r.at(0), errc::not_coordinator);
  // The store went with the partition: its parked wait is dropped, never completed.
  EXPECT_TRUE(log->held.empty());
}

TEST_F(fixture, LeaderAssignmentAppliesOnlyOnceReplicated) {
  auto j = join("");
  ASSERT_TRUE(j->done);
  log->hold = true;
  auto s = sync(j->r.member_id, 1, {{j->r.member_id, b("A")}});
  EXPECT_FALSE(s->done);
  EXPECT_EQ(state(), "CompletingRebalance");
  EXPECT_TRUE(gm->describe(P, "g").members.at(0).assignment.empty());
  log->release();
  ASSERT_TRUE(s->done);
  EXPECT_EQ(s->r.error, errc::none);
  EXPECT_EQ(s->r.assignment, b("A"));
  EXPECT_EQ(state(), "Stable");
  // The replicated record carries the assignment: a reload sees it.
  log->hold = false;
  restart();
  EXPECT_EQ(gm->describe(P, "g").members.at(0).assignment, b("A"));
}

TEST_F(fixture, LeaderAssignmentWriteTimeoutRebalances) {
  auto ja = join("");
  auto a = ja->r.member_id;
  sync(a, 1, {{a, b("A")}});
  auto jb = join("");
  auto ja2 = join(a);
  ASSERT_TRUE(ja2->done && jb->done);
  ASSERT_EQ(ja2->r.generation_id, 2);
  log->hold = true;
  auto sb = sync(jb->r.member_id, 2);
  auto sa = sync(a, 2, {{a, b("pa")}, {jb->r.member_id, b("pb")}});
  EXPECT_FALSE(sa->done || sb->done);
  // Kafka's storeGroup maps REQUEST_TIMED_OUT to REBALANCE_IN_PROGRESS; the group rebalances.
  log->release(make_error_code(write_errc::timed_out));
  ASSERT_TRUE(sa->done && sb->done);
  EXPECT_EQ(sa->r.error, errc::rebalance_in_progress);
  EXPECT_EQ(sb->r.error, errc::rebalance_in_progress);
  EXPECT_TRUE(sb->r.assignment.empty());
  EXPECT_EQ(state(), "PreparingRebalance");
}

TEST_F(fixture, LateAssignmentWriteDoesNotOverrideANewerRebalance) {
  auto j = join("");
  auto a = j->r.member_id;
  log->hold = true;
  auto s = sync(a, 1, {{a, b("A")}});
  ASSERT_FALSE(s->done);
  // A second member joins meanwhile: the sync phase ends with REBALANCE_IN_PROGRESS.
  auto jb = join("");
  ASSERT_TRUE(s->done);
  EXPECT_EQ(s->r.error, errc::rebalance_in_progress);
  EXPECT_EQ(state(), "PreparingRebalance");
  // The old generation's write completing later changes nothing.
  log->release();
  EXPECT_EQ(state(), "PreparingRebalance");
  for (const auto& m : gm->describe(P, "g").members) EXPECT_TRUE(m.assignment.empty());
}

}  // namespace
}  // namespace sluice::coordinator::group
