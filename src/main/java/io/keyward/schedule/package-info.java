/**
 * When rotations run: one Quartz job per secret, its next start computed from the schedule, the
 * window, jitter and the journal. Entry: {@link io.keyward.schedule.RotationScheduler}.
 */
package io.keyward.schedule;
