# Sourced by the setup scripts (which define log and die): install the Debian packages given as
# arguments that are not installed yet; a no-op when all are. Needs root only when installing.
ensure_apt_packages() {
  local missing=() p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$p")
    fi
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "apt-get not found; install by hand: ${missing[*]}"
  [[ $(id -u) -eq 0 ]] || die "must run as root to install: ${missing[*]}"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed: ${missing[*]}"
}
