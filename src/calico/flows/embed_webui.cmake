# Writes OUT: a .cc defining calico::flows::WebPage() as the bytes of IN (a raw string literal;
# the page must not contain the delimiter )calico_webui").
file(READ ${IN} page)
string(FIND "${page}" ")calico_webui\"" bad)
if(NOT bad EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter")
endif()
file(WRITE ${OUT} "// Generated from webui/index.html by embed_webui.cmake: do not edit.\n#include \"calico/flows/webui.h\"\n\nnamespace calico::flows {\n\nstd::string_view WebPage() {\n  static constexpr std::string_view kPage = R\"calico_webui(${page})calico_webui\";\n  return kPage;\n}\n\n}  // namespace calico::flows\n")
