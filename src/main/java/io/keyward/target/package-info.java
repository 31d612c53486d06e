/** Where values are delivered: files written atomically. Entry: {@link io.keyward.target.Targets}. */
package io.keyward.target;
