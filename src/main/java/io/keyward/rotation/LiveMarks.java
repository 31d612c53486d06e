package io.keyward.rotation;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What keyward writes in the live path's custom metadata, for every agent and operator to see:
 * the version it promoted last and by which rotation, a version it refused, a due key it
 * announced. What a host delivered is not among them: that is the host's own {@link Ledger}.
 */
final class LiveMarks {

    static final String CURRENT = "keyward-current";
    static final String PREVIOUS = "keyward-previous";
    static final String ROTATION = "keyward-rotation";
    static final String REFUSED = "keyward-refused";
    static final String DUE_ANNOUNCED = "keyward-due-announced";
    /** "VERSION@TIME": the live version's key was first seen refused by its issuer then (a DocBits probe). */
    static final String DEAD = "keyward-dead";
    /** Set by an operator: when the key expires (ISO-8601 date or time). */
    static final String EXPIRES_AT = "expires_at";

    private final SecretStore store;

    LiveMarks(SecretStore store) {
        this.store = store;
    }

    /** The version keyward last promoted (or verified, for one written by someone else), or 0. */
    static int current(Map<String, String> custom) {
        return number(custom.get(CURRENT));
    }

    /** The rotation that made {@code version} live, if keyward's marks say one did. */
    static Optional<String> rotationOf(int version, Map<String, String> custom) {
        return current(custom) == version ? Optional.ofNullable(custom.get(ROTATION)) : Optional.empty();
    }

    static int refused(Map<String, String> custom) {
        return number(custom.get(REFUSED));
    }

    /** The version whose due date was announced, or -1. */
    static int dueAnnounced(Map<String, String> custom) {
        String s = custom.get(DUE_ANNOUNCED);
        return s == null ? -1 : number(s);
    }

    /** When the key expires, from the operator's {@code expires_at} (a date means its start, UTC). */
    static Optional<Instant> expiry(Map<String, String> custom) {
        String text = custom.get(EXPIRES_AT);
        if (text == null || text.isBlank()) return Optional.empty();
        try {
            return Optional.of(Instant.parse(text.strip()));
        } catch (DateTimeParseException notInstant) {
            try {
                return Optional.of(LocalDate.parse(text.strip()).atStartOfDay(ZoneOffset.UTC).toInstant());
            } catch (DateTimeParseException notDate) {
                return Optional.empty();
            }
        }
    }

    /** Since when the issuer refuses {@code version}'s key, if a probe saw it and said so in the marks. */
    static Optional<Instant> refusedSince(Map<String, String> custom, int version) {
        String s = custom.get(DEAD);
        int at = s == null ? -1 : s.indexOf('@');
        if (at < 0 || number(s.substring(0, at)) != version) return Optional.empty();
        try {
            return Optional.of(Instant.parse(s.substring(at + 1)));
        } catch (DateTimeParseException bad) {
            return Optional.empty();
        }
    }

    /** Notes when {@code version}'s key was first seen refused; a later look at the same version changes nothing. */
    void refusedSince(SecretPath live, int version, Instant at) throws StoreException {
        Map<String, String> custom = store.metadata(live).map(SecretMetadata::customMetadata).orElse(Map.of());
        if (refusedSince(custom, version).isPresent()) return;
        set(live, custom, Map.of(DEAD, version + "@" + at));
    }

    /** Drops the refusal noted for {@code version}, if any (DocBits takes its key after all). */
    void acceptedAgain(SecretPath live, int version) throws StoreException {
        Map<String, String> custom = store.metadata(live).map(SecretMetadata::customMetadata).orElse(Map.of());
        if (refusedSince(custom, version).isEmpty()) return;
        Map<String, String> kept = new HashMap<>(custom);
        kept.remove(DEAD);
        store.writeCustomMetadata(live, kept);
    }

    /** What the start decision needs of the live version. */
    static Start.Live live(Optional<SecretMetadata> meta) {
        if (meta.isEmpty()) return new Start.Live(0, Optional.empty(), Optional.empty(), -1);
        SecretMetadata m = meta.get();
        Optional<Instant> written = m.currentVersion() == 0 ? Optional.empty()
                : m.version(m.currentVersion()).map(SecretMetadata.VersionState::created);
        return new Start.Live(m.currentVersion(), written, expiry(m.customMetadata()), dueAnnounced(m.customMetadata()));
    }

    void promoted(SecretPath live, int version, int previous, String rotationId) throws StoreException {
        set(live, Map.of(ROTATION, rotationId, CURRENT, String.valueOf(version), PREVIOUS, String.valueOf(previous)));
    }

    void refuse(SecretPath live, Map<String, String> current, int version) throws StoreException {
        set(live, current, Map.of(REFUSED, String.valueOf(version)));
    }

    void dueAnnounced(SecretPath live, Map<String, String> current, int version) throws StoreException {
        set(live, current, Map.of(DUE_ANNOUNCED, String.valueOf(version)));
    }

    /** Writes {@code changes} over what the store holds now (custom metadata is written whole). */
    private void set(SecretPath path, Map<String, String> changes) throws StoreException {
        set(path, store.metadata(path).map(SecretMetadata::customMetadata).orElse(Map.of()), changes);
    }

    private void set(SecretPath path, Map<String, String> current, Map<String, String> changes) throws StoreException {
        Map<String, String> custom = new HashMap<>(current);
        custom.putAll(changes);
        store.writeCustomMetadata(path, custom);
    }

    static int number(String s) {
        try {
            return s == null ? 0 : Integer.parseInt(s.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
