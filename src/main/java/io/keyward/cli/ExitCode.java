package io.keyward.cli;

/** keyward's exit codes, documented in the README. */
enum ExitCode {
    OK(0),
    /** Something unexpected: a bug or an environment keyward cannot cope with. */
    INTERNAL(1),
    /** The command line, the configuration or the policy is wrong; nothing was changed. */
    USAGE(2),
    /** Vault could not be reached, refused the login, or denied a call. */
    VAULT(3),
    /** A rotation was rolled back or stopped part-way; the journal says where. */
    ROTATION_FAILED(4),
    /** `audit verify` found a line changed, removed or reordered. */
    AUDIT_BROKEN(5);

    final int code;

    ExitCode(int code) {
        this.code = code;
    }
}
