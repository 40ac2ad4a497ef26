# Sourced by scripts that need Debian packages on a fresh machine.
#
#   install_packages PACKAGE...      apt-get install them (as root), else warn
#   install_missing COMMAND:PACKAGE...  the same for each PACKAGE whose COMMAND is not found

install_packages() {
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing: $*" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "warning: please install $* (what needs them skips or fails)" >&2
  fi
}

install_missing() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  install_packages ${missing[@]+"${missing[@]}"}
}
