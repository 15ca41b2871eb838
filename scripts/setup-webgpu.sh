#!/usr/bin/env bash
# Sets up a software WebGPU adapter for running lathe's WGSL kernels for real (Debian 12).
#
# Dawn (npm `webgpu`) refuses Debian 12's own lavapipe (Mesa 22.3) but runs on Mesa 25's, which
# Debian ships in bookworm-backports. This script fetches that one package with a private apt
# configuration (its own sources list, package lists and cache under .cache/webgpu/, so the
# system's apt setup is untouched), unpacks it there with dpkg-deb -x (nothing is installed
# system-wide), and writes an ICD JSON naming the unpacked libvulkan_lvp.so.
# backends/wgsl/gpu.ts points VK_ICD_FILENAMES at that JSON before it creates Dawn.
#
# System packages it needs (installed when missing, as root): libvulkan1 (the Vulkan loader) and
# mesa-vulkan-drivers (the libraries Mesa 25's lavapipe links: LLVM 15, libdrm, ...).
#
# Idempotent: when the driver is already unpacked it only checks (well under a second).
#
#   bash scripts/setup-webgpu.sh            # set up, then probe the adapter if node_modules has webgpu
#   bash scripts/setup-webgpu.sh --no-probe # set up only
#
# LATHE_SKIP_WEBGPU=1 skips it all (the WGSL tests that need an adapter then skip with a note).
set -euo pipefail

cd "$(dirname "$0")/.."

MESA_VERSION="25.0.7-2~bpo12+1"
ARCHIVE="http://deb.debian.org/debian"
SUITE="bookworm-backports"
KEYRING="/usr/share/keyrings/debian-archive-keyring.gpg"

probe=1
for arg in "$@"; do
  case "$arg" in
    --no-probe) probe=0 ;;
    *) echo "setup-webgpu.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { echo "setup-webgpu: $*"; }
die() { echo "setup-webgpu: error: $*" >&2; exit 1; }

if [[ "${LATHE_SKIP_WEBGPU:-}" == 1 ]]; then
  log "LATHE_SKIP_WEBGPU=1: skipped (WGSL runtime tests will skip)"
  exit 0
fi

root="$PWD/.cache/webgpu"
driver_dir="$root/lavapipe"   # the unpacked package
icd="$root/lvp_icd.json"
stamp="$root/lavapipe.version"

# ---- system packages ----
source scripts/apt-packages.sh
ensure_apt_packages libvulkan1 mesa-vulkan-drivers

find_lvp() { find "$driver_dir" -name libvulkan_lvp.so -type f 2>/dev/null | head -n 1; }

# ---- Mesa 25 lavapipe, unpacked into the project ----
if [[ -f "$stamp" && -f "$icd" && -n "$(find_lvp)" ]]; then
  log "lavapipe $(cat "$stamp") present in .cache/webgpu"
else
  command -v apt-get >/dev/null || die "apt-get not found: cannot fetch mesa-vulkan-drivers $MESA_VERSION"
  [[ -f "$KEYRING" ]] || die "$KEYRING missing (package debian-archive-keyring)"
  apt_dir="$root/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d" "$root/deb"
  echo "deb [signed-by=$KEYRING] $ARCHIVE $SUITE main" >"$apt_dir/sources.list"
  # Only our sources list, our lists and cache; downloads as the current user (the private
  # folders are not readable by apt's _apt sandbox user); no lock on the system's apt state.
  apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Sandbox::User=$(id -un)"
    -o "Debug::NoLocking=1"
  )
  log "fetching the $SUITE package lists (private, in .cache/webgpu/apt)"
  apt-get -qq "${apt_opts[@]}" update || die "apt-get update of $ARCHIVE $SUITE failed (network?)"
  available=$(apt-cache "${apt_opts[@]}" madison mesa-vulkan-drivers | awk -F'|' '{gsub(/ /, "", $2); print $2}')
  version="$MESA_VERSION"
  if ! grep -qxF "$MESA_VERSION" <<<"$available"; then
    version=$(head -n 1 <<<"$available")
    [[ -n "$version" ]] || die "mesa-vulkan-drivers is not in $SUITE"
    log "warning: mesa-vulkan-drivers $MESA_VERSION is gone from $SUITE; trying $version (update MESA_VERSION once it works)"
  fi
  log "downloading mesa-vulkan-drivers $version"
  rm -f "$root"/deb/*.deb
  (cd "$root/deb" && apt-get -qq "${apt_opts[@]}" download "mesa-vulkan-drivers=$version") \
    || die "apt-get download mesa-vulkan-drivers=$version failed"
  deb=$(ls "$root"/deb/mesa-vulkan-drivers_*.deb | head -n 1)
  rm -rf "$driver_dir"
  mkdir -p "$driver_dir"
  dpkg-deb -x "$deb" "$driver_dir" || die "dpkg-deb -x $deb failed"
  lvp=$(find_lvp)
  [[ -n "$lvp" ]] || die "$deb holds no libvulkan_lvp.so"
  api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$driver_dir"/usr/share/vulkan/icd.d/lvp_icd.json 2>/dev/null | head -n 1)
  cat >"$icd" <<EOF
{
    "file_format_version": "1.0.0",
    "ICD": {
        "library_path": "$lvp",
        "api_version": "${api:-1.3.0}"
    }
}
EOF
  echo "$version" >"$stamp"
  rm -f "$deb" # the unpacked tree is what we keep
  log "lavapipe $version unpacked; ICD: ${icd#"$PWD"/}"
fi

# The ICD names an absolute path: rewrite it if the checkout moved.
lvp=$(find_lvp)
grep -qF "\"$lvp\"" "$icd" || sed -i "s|\"library_path\": *\"[^\"]*\"|\"library_path\": \"$lvp\"|" "$icd"

# ---- probe: can Dawn create an adapter on it? ----
if ((probe)) && [[ -d node_modules/webgpu ]]; then
  out=$(node --import tsx --input-type=module -e '
    const { openGpu } = await import("./backends/wgsl/gpu.ts");
    const gpu = await openGpu();
    console.log(gpu ? gpu.adapterName : "NONE");
    process.exit(0);
  ' 2>/dev/null) || die "the adapter probe crashed (node --import tsx backends/wgsl/gpu.ts)"
  [[ "$out" != NONE && -n "$out" ]] || die "Dawn found no adapter with VK_ICD_FILENAMES=$icd"
  log "adapter: $out"
fi
