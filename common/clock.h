/* common/clock.h: wall and monotonic time in milliseconds. */
#ifndef GW_COMMON_CLOCK_H
#define GW_COMMON_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock: token times, events). */
int64_t gw_clock_now_ms(void);

/* Milliseconds of a monotonic clock (deadlines, latencies). */
int64_t gw_clock_mono_ms(void);

#endif
