#!/usr/bin/env bash
# A key issuer for the crash tests, keeping its state in files so that it survives the agent
# being killed: issue (idempotent per KEYWARD_REQUEST_ID), revoke and check (exit 0: key valid).
# A revocation while a target file still holds the key is recorded as a violation.
set -euo pipefail
state="${CRASH_STATE:?}"
mkdir -p "$state/valid" "$state/revoked" "$state/requests"
case "${1:-}" in
  issue)
    req="$state/requests/${KEYWARD_REQUEST_ID:?}"
    if [[ -f "$req" ]]; then cat "$req"; echo; exit 0; fi
    key="k-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    printf '%s' "$key" > "$req.tmp.$$"
    mv "$req.tmp.$$" "$req"
    touch "$state/valid/$key"
    echo "$key" ;;
  revoke)
    key="$(cat)"
    for f in "${CRASH_TARGETS:?}"/*; do
      if [[ -f "$f" && "$(cat "$f")" == "$key" ]]; then
        echo "revoked a key while $(basename "$f") held it" >> "$state/violations"
      fi
    done
    if [[ -f "$state/valid/$key" ]]; then mv "$state/valid/$key" "$state/revoked/$key"; fi ;;
  check)
    key="$(cat)"
    [[ -f "$state/valid/$key" ]] ;;
  *) echo "usage: issuer.sh issue|revoke|check" >&2; exit 2 ;;
esac
