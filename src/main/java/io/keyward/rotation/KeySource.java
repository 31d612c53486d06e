package io.keyward.rotation;

import java.util.Optional;

/** Where a secret's new values come from, and who must accept or revoke them. */
public sealed interface KeySource {

    /** keyward makes the value; an issuer, if named, must accept it and revokes the old one after the grace. */
    record Generated(Plugins.Generator generator, Optional<Plugins.Issuer> acceptor) implements KeySource {
        public Generated {
            java.util.Objects.requireNonNull(generator, "generator");
            java.util.Objects.requireNonNull(acceptor, "acceptor");
        }
    }

    /** The issuer mints the value (the same one for a repeated request id) and revokes the old one. */
    record Issued(Plugins.Issuer issuer) implements KeySource {
        public Issued {
            java.util.Objects.requireNonNull(issuer, "issuer");
        }
    }

    /** A person makes and revokes the keys; keyward announces, verifies, delivers and reports. */
    record Manual(Plugins.ManualKeys keys) implements KeySource {
        public Manual {
            java.util.Objects.requireNonNull(keys, "keys");
        }
    }

    /** The issuer that revokes old values keyward made, if there is one. */
    default Optional<Plugins.Issuer> revoker() {
        if (this instanceof Issued i) return Optional.of(i.issuer());
        if (this instanceof Generated g) return g.acceptor();
        return Optional.empty();
    }

    /** Where the issuer says when a value was last used, if there is one. */
    default Optional<Plugins.Usage> usage() {
        if (this instanceof Manual m) return Optional.of(m.keys());
        return revoker().map(i -> i);
    }

    /** The kind alone, for the pure decisions. */
    default Decision.Source kind() {
        if (this instanceof Manual) return Decision.Source.MANUAL;
        if (this instanceof Issued) return Decision.Source.ISSUED;
        return ((Generated) this).acceptor().isPresent() ? Decision.Source.ACCEPTED : Decision.Source.GENERATED;
    }
}
