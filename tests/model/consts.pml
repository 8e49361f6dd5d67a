#define WAIT 2
#define HOLD_EXTRA 0
#define HOLD (WAIT + HOLD_EXTRA)
