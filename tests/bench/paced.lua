-- wrk script: each connection waits WRK_DELAY_MS milliseconds before its next request (a paced poller, not a flood).
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "10")

function delay()
  return pause
end
