#include "feeds/fetch/libcurl.h"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace tw::feeds::lc {

namespace {

Api g_api;
Status g_status = Status::Unavailable("libcurl not loaded");
std::once_flag g_once;

template <typename F>
bool Bind(void* lib, const char* name, F* out, std::string* missing) {
  void* sym = dlsym(lib, name);
  if (sym == nullptr) {
    if (!missing->empty()) *missing += ", ";
    *missing += name;
    return false;
  }
  *out = reinterpret_cast<F>(sym);
  return true;
}

void LoadOnce() {
  void* lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    const char* why = dlerror();
    g_status = Status::Unavailable(std::string("libcurl.so.4 cannot be loaded (install the Debian package libcurl4): ") +
                                   (why ? why : "unknown error"));
    return;
  }
  std::string missing;
  Bind(lib, "curl_global_init", &g_api.global_init, &missing);
  Bind(lib, "curl_easy_init", &g_api.easy_init, &missing);
  Bind(lib, "curl_easy_cleanup", &g_api.easy_cleanup, &missing);
  Bind(lib, "curl_easy_setopt", &g_api.easy_setopt, &missing);
  Bind(lib, "curl_easy_getinfo", &g_api.easy_getinfo, &missing);
  Bind(lib, "curl_easy_strerror", &g_api.easy_strerror, &missing);
  Bind(lib, "curl_free", &g_api.free, &missing);
  Bind(lib, "curl_multi_init", &g_api.multi_init, &missing);
  Bind(lib, "curl_multi_cleanup", &g_api.multi_cleanup, &missing);
  Bind(lib, "curl_multi_add_handle", &g_api.multi_add_handle, &missing);
  Bind(lib, "curl_multi_remove_handle", &g_api.multi_remove_handle, &missing);
  Bind(lib, "curl_multi_perform", &g_api.multi_perform, &missing);
  Bind(lib, "curl_multi_poll", &g_api.multi_poll, &missing);
  Bind(lib, "curl_multi_info_read", &g_api.multi_info_read, &missing);
  Bind(lib, "curl_multi_strerror", &g_api.multi_strerror, &missing);
  Bind(lib, "curl_slist_append", &g_api.slist_append, &missing);
  Bind(lib, "curl_slist_free_all", &g_api.slist_free_all, &missing);
  Bind(lib, "curl_url", &g_api.url, &missing);
  Bind(lib, "curl_url_cleanup", &g_api.url_cleanup, &missing);
  Bind(lib, "curl_url_get", &g_api.url_get, &missing);
  Bind(lib, "curl_url_set", &g_api.url_set, &missing);
  Bind(lib, "curl_version_info", &g_api.version_info, &missing);
  if (!missing.empty()) {
    g_status = Status::Unavailable("libcurl.so.4 is too old: missing " + missing);
    return;  // the library stays loaded; nothing is called
  }
  if (g_api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    g_status = Status::Unavailable("curl_global_init failed");
    return;
  }
  g_status = Status::Ok();
}

}  // namespace

Status Load() {
  std::call_once(g_once, LoadOnce);
  return g_status;
}

const Api& api() { return g_api; }

}  // namespace tw::feeds::lc
