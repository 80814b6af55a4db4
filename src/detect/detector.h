// Detector: threat detection for threatwalld (DESIGN.md §8, issue 5).
//
// It follows the resource store -- GlobalThreatFeed objects and the feed
// controller's FeedData records (feeds/controller/feed_data.h) -- and
// keeps one ThreatIndex of every enabled feed (spec.mode != Disabled) whose
// stored set belongs to it (FeedData feed_uid = the feed's uid, same
// content).  Rebuilds happen on the detector's own thread and are swapped
// in as a shared_ptr, so the live path never waits for one; a feed whose
// stored set did not change is not re-parsed.
//
// Live path: the log pipeline calls OnFlows / OnDns right after it stored
// a batch.  Each record is matched (flows: IPv4 addresses through the
// batched matcher; nothing else is done for a record that matches
// nothing); a match becomes an event (events.h), LogStore::PutEvent stores
// it unless its deterministic id is there already, and the sink is called
// for every NEW event (for webhooks).  Allowed and denied flows alike.
//
// Retro-hunt (what Calico does not do, calico-semantics.md §2.1/§8): when
// a feed GAINS entries -- a new FeedData version with entries the previous
// one lacked, a feed newly enabled or created, match-subdomains switched
// on -- the retained flow and DNS logs are matched against ONLY the gained
// entries, so an indicator that arrives late raises events for connections
// made earlier.  A record that matches is turned into an event with the
// full current index (so the event is the one the live path would make
// now); ids dedupe, so a second update with the same entries adds nothing.
// A feed that LOSES entries raises nothing and changes nothing stored.
//
// Hunt window (decided here): HuntScope::kAllRetained, the default, scans
// every retained log (the LogStore's retention bounds it): a connection
// made before the feed's last search was only matched against the entries
// known then, so scanning "since the last search" would miss exactly the
// late indicators the hunt is for.  kSinceLastSearch scans from the
// feed's status.lastSuccessfulSearch minus `search_lag` (records are
// stored up to a flush interval after their time; all retained when the
// feed was never searched) -- the wording, kept as an option.
// After a hunt, status.lastSuccessfulSearch (Calico's field, RFC 3339) is
// set to the time the hunt started and SearchFailed conditions are
// cleared; a hunt that fails adds a SearchFailed condition (ring of 10,
// like the feed controller's).  Status is read-modify-written with the
// object's mod_revision as precondition and retried on conflicts (5
// times); no other field is touched.
// At start-up (the first Load) a feed is hunted in full when it was never
// searched or its stored set is newer (FeedData created_at) than its
// lastSuccessfulSearch: changes made while the daemon was down are not
// missed.  A feed re-enabled while the daemon was down is not re-hunted.
//
// Modes: Start()/Stop() run a thread that follows the store's watches
// (changes within `settle` of each other make one rebuild) and runs hunts;
// or, in tests, Load() then Step() on the caller's thread.  OnFlows/OnDns
// may be called from any thread in both modes.
#ifndef TW_DETECT_DETECTOR_H_
#define TW_DETECT_DETECTOR_H_

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "base/clock.h"
#include "base/result.h"
#include "detect/events.h"
#include "detect/threat_index.h"
#include "logstore/log_store.h"
#include "store/datastore.h"

namespace tw::detect {

enum class HuntScope { kAllRetained, kSinceLastSearch };

struct DetectorOptions {
  HuntScope hunt_scope = HuntScope::kAllRetained;
  // kSinceLastSearch: how far before lastSuccessfulSearch a hunt starts.
  std::chrono::seconds search_lag{60};
  // Background mode: store changes this close together make one rebuild.
  std::chrono::milliseconds settle{200};
};

struct DetectorStats {
  uint64_t flows_checked = 0;    // live path
  uint64_t dns_checked = 0;      // live path
  uint64_t records_matched = 0;  // live path and hunts
  uint64_t events_new = 0;
  uint64_t events_duplicate = 0;
  uint64_t event_errors = 0;  // PutEvent failed
  uint64_t hunts = 0;
  uint64_t hunt_failures = 0;
  uint64_t hunt_records_scanned = 0;
  std::chrono::microseconds last_hunt_duration{0};
  uint64_t index_builds = 0;
  std::chrono::microseconds last_index_build{0};
  // The current index.
  uint64_t feeds = 0;
  uint64_t ip_prefixes = 0;
  uint64_t domains = 0;
  uint64_t index_bytes = 0;  // the index and its feeds' sets
};

// Called for every event PutEvent stored as new; on the thread that found
// it (the log pipeline's, or the detector's for hunts).  Must not block
// for long.
using EventSink = std::function<void(const boost::json::object& event)>;

class Detector {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // References must outlive the detector.  `sink` may be empty.
  Detector(store::Datastore& store, logstore::LogStore& logs, const Clock& clock, DetectorOptions options,
           EventSink sink);
  ~Detector();
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  // Background mode: Load(), then a thread that follows the store and runs
  // hunts (the start-up hunts included).
  Status Start();
  // Stops the thread (a running hunt is abandoned between records).
  void Stop();

  // Step mode (tests; one thread, never together with Start): Load() lists
  // feeds and stored sets, builds the index and starts following the
  // watches; Step() applies the pending changes (waiting up to `wait` for
  // the first), rebuilds when something relevant changed and runs the
  // hunts that are due, inline.
  Status Load();
  Status Step(std::chrono::milliseconds wait = std::chrono::milliseconds(0));

  // The live path (any thread): match, store new events, call the sink.
  void OnFlows(std::span<const boost::json::object> flows);
  void OnDns(std::span<const boost::json::object> records);

  std::shared_ptr<const ThreatIndex> index() const;
  DetectorStats stats() const;

 private:
  struct FeedInfo;
  struct DataInfo;
  struct PendingHunt;
  struct Counters;

  Status LoadLocked();
  Status ApplyEvents(std::chrono::milliseconds wait);
  void HandleFeed(const store::Record& record);
  void HandleData(const store::Record& record);
  void Rebuild();
  void RunHunts();
  Status Hunt(const ThreatIndex& delta, const ThreatIndex& full, TimePoint since);
  void WriteSearchStatus(const std::string& name, const std::string& uid, TimePoint started, const Status& result);
  void Deliver(const boost::json::object& event);
  int64_t NowUnix() const;
  void RunLoop();

  store::Datastore& store_;
  logstore::LogStore& logs_;
  const Clock& clock_;
  DetectorOptions options_;
  EventSink sink_;
  std::string feed_kind_;

  // Detector thread (or the Step caller) only.
  std::map<std::string, FeedInfo> feeds_;
  std::map<std::string, DataInfo> data_;
  std::map<std::string, IndexedFeed> indexed_;  // what the current index holds, by feed
  std::map<std::string, PendingHunt> pending_;
  bool dirty_ = false;
  bool loaded_once_ = false;
  std::chrono::steady_clock::time_point last_change_;
  std::unique_ptr<store::Watch> feed_watch_;
  std::unique_ptr<store::Watch> data_watch_;

  mutable std::mutex index_mu_;
  std::shared_ptr<const ThreatIndex> index_;

  std::unique_ptr<Counters> counters_;
  std::thread loop_;
  std::atomic<bool> stop_{false};
};

}  // namespace tw::detect

#endif  // TW_DETECT_DETECTOR_H_
