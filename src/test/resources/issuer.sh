#!/usr/bin/env bash
# A key issuer for tests that run keyward as separate processes, keeping its state in files
# (ISSUER_STATE) so that it survives an agent being killed and is shared by every host: issue
# (idempotent per KEYWARD_REQUEST_ID), accept (a generated value becomes valid), revoke (the
# time of each revocation is kept) and check (exit 0: the key is valid). With ISSUER_TARGETS, a
# revocation while a file there still holds the key is recorded as a violation.
set -euo pipefail
state="${ISSUER_STATE:?}"
mkdir -p "$state/valid" "$state/revoked" "$state/requests"
case "${1:-}" in
  issue)
    req="$state/requests/${KEYWARD_REQUEST_ID:?}"
    if [[ -f "$req" ]]; then cat "$req"; echo; exit 0; fi
    key="k-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    touch "$state/valid/$key"
    printf '%s' "$key" > "$req.tmp.$$"
    mv "$req.tmp.$$" "$req"
    echo "$key" ;;
  revoke)
    key="$(cat)"
    if [[ -n "${ISSUER_TARGETS:-}" ]]; then
      for f in "$ISSUER_TARGETS"/*; do
        if [[ -f "$f" && "$(cat "$f")" == "$key" ]]; then
          echo "revoked a key while $(basename "$f") held it" >> "$state/violations"
        fi
      done
    fi
    if [[ -f "$state/valid/$key" ]]; then
      date +%s%3N > "$state/revoked/$key"
      rm -f "$state/valid/$key"
    fi ;;
  accept)
    # a value keyward generated becomes a valid key (a database taking a new password)
    key="$(cat)"
    [[ -f "$state/revoked/$key" ]] || touch "$state/valid/$key" ;;
  check)
    key="$(cat)"
    [[ -f "$state/valid/$key" ]] ;;
  *) echo "usage: issuer.sh issue|accept|revoke|check" >&2; exit 2 ;;
esac
