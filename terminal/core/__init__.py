"""Pure domain of the counter: money, menu, orders, payments, shifts, users, tokens and checks. No I/O, no Qt."""
