/**
 * The {@code keyward} command line (picocli). Exit codes are decided here alone, in {@link io.keyward.cli.Cli}.
 */
package io.keyward.cli;
