package io.keyward.rotation;

/** The steps of a rotation, in order; RETIRED and ROLLED_BACK end it. */
public enum Phase {
    CLAIMED, STAGED, APPLIED, VERIFIED, PROMOTED, DELIVERED, RETIRED, ROLLED_BACK;

    public boolean terminal() {
        return this == RETIRED || this == ROLLED_BACK;
    }

    /** True once the new value is live in Vault: from here on the rotation goes forward, never back. */
    public boolean promoted() {
        return ordinal() >= PROMOTED.ordinal() && this != ROLLED_BACK;
    }

    public String word() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
