// libcurl, loaded on first use with dlopen("libcurl.so.4") instead of being
// linked: libcurl drags in ~30 shared libraries (GnuTLS, Kerberos, LDAP,
// RTMP, ...) whose loading and relocation cost every process 7 ms at start
// -- a third of `threatwall feeds parse` on a 190k-line feed, and paid by
// every CLI command that never fetches anything.
//
// The functions below have libcurl's names and signatures, in namespace
// tw::feeds::lc; call Load() first (Fetch does).  Debian's package libcurl4
// (a dependency of the curl tool) provides the library.
#ifndef TW_FEEDS_FETCH_LIBCURL_H_
#define TW_FEEDS_FETCH_LIBCURL_H_

#include <curl/curl.h>

#include "base/status.h"

namespace tw::feeds::lc {

struct Api {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  void (*free)(void*);
  CURLM* (*multi_init)();
  CURLMcode (*multi_cleanup)(CURLM*);
  CURLMcode (*multi_add_handle)(CURLM*, CURL*);
  CURLMcode (*multi_remove_handle)(CURLM*, CURL*);
  CURLMcode (*multi_perform)(CURLM*, int*);
  CURLMcode (*multi_poll)(CURLM*, struct curl_waitfd[], unsigned int, int, int*);
  CURLMsg* (*multi_info_read)(CURLM*, int*);
  const char* (*multi_strerror)(CURLMcode);
  struct curl_slist* (*slist_append)(struct curl_slist*, const char*);
  void (*slist_free_all)(struct curl_slist*);
  CURLU* (*url)();
  void (*url_cleanup)(CURLU*);
  CURLUcode (*url_get)(const CURLU*, CURLUPart, char**, unsigned int);
  CURLUcode (*url_set)(CURLU*, CURLUPart, const char*, unsigned int);
  curl_version_info_data* (*version_info)(CURLversion);
};

// Loads libcurl and runs curl_global_init once (thread-safe).  Unavailable
// "libcurl.so.4 cannot be loaded: ..." when the library is missing.
Status Load();
// The loaded functions; only after Load() returned OK.
const Api& api();

inline CURL* curl_easy_init() { return api().easy_init(); }
inline void curl_easy_cleanup(CURL* e) { api().easy_cleanup(e); }
template <typename T>
CURLcode curl_easy_setopt(CURL* e, CURLoption o, T v) {
  return api().easy_setopt(e, o, v);
}
template <typename T>
CURLcode curl_easy_getinfo(CURL* e, CURLINFO i, T v) {
  return api().easy_getinfo(e, i, v);
}
inline const char* curl_easy_strerror(CURLcode c) { return api().easy_strerror(c); }
inline void curl_free(void* p) { api().free(p); }
inline CURLM* curl_multi_init() { return api().multi_init(); }
inline CURLMcode curl_multi_cleanup(CURLM* m) { return api().multi_cleanup(m); }
inline CURLMcode curl_multi_add_handle(CURLM* m, CURL* e) { return api().multi_add_handle(m, e); }
inline CURLMcode curl_multi_remove_handle(CURLM* m, CURL* e) { return api().multi_remove_handle(m, e); }
inline CURLMcode curl_multi_perform(CURLM* m, int* running) { return api().multi_perform(m, running); }
inline CURLMcode curl_multi_poll(CURLM* m, struct curl_waitfd fds[], unsigned int n, int ms, int* ret) {
  return api().multi_poll(m, fds, n, ms, ret);
}
inline CURLMsg* curl_multi_info_read(CURLM* m, int* queued) { return api().multi_info_read(m, queued); }
inline const char* curl_multi_strerror(CURLMcode c) { return api().multi_strerror(c); }
inline struct curl_slist* curl_slist_append(struct curl_slist* l, const char* s) { return api().slist_append(l, s); }
inline void curl_slist_free_all(struct curl_slist* l) { api().slist_free_all(l); }
inline CURLU* curl_url() { return api().url(); }
inline void curl_url_cleanup(CURLU* u) { api().url_cleanup(u); }
inline CURLUcode curl_url_get(const CURLU* u, CURLUPart p, char** out, unsigned int flags) {
  return api().url_get(u, p, out, flags);
}
inline CURLUcode curl_url_set(CURLU* u, CURLUPart p, const char* s, unsigned int flags) {
  return api().url_set(u, p, s, flags);
}
inline curl_version_info_data* curl_version_info(CURLversion v) { return api().version_info(v); }

}  // namespace tw::feeds::lc

#endif  // TW_FEEDS_FETCH_LIBCURL_H_
