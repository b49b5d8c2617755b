-- wrk script for bench/compare.sh's publish-only row: every request is a POST of the same body.
-- WRK_BODY_FILE names a file holding the body; WRK_CONTENT_TYPE its media type.
local f = assert(io.open(os.getenv("WRK_BODY_FILE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("WRK_CONTENT_TYPE") or "application/json"
