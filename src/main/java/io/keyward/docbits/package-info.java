/**
 * DocBits: the client (X-API-KEY, X-ORG-ID, the success/data/message envelope), the key probe used
 * as verifier, the API-mode issuer, and a simulator of the documented behaviour for tests and the
 * demo. Entries: {@link io.keyward.docbits.DocBitsClient}, {@link io.keyward.docbits.DocBitsSimulator}.
 */
package io.keyward.docbits;
