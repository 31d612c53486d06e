/**
 * Where new values come from: random generators, and external programs that generate, issue,
 * accept, revoke or verify values. Entry: {@link io.keyward.generate.Generators}.
 */
package io.keyward.generate;
