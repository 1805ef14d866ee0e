// The web page calico-flows serves at / (Whisker's role): one HTML document with its CSS and
// JavaScript inline (webui/index.html, embedded at build time), so the page needs no network
// access beyond calico-flows itself.
//
// Thread-safety: a constant.
#pragma once

#include <string_view>

namespace calico::flows {

std::string_view WebPage();

}  // namespace calico::flows
