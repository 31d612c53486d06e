/**
 * The YAML that operators edit: records, a loader that keeps every value's file:line:column,
 * and validation that reports every problem at once.
 */
package io.keyward.policy;
