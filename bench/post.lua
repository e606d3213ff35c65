-- wrk script for bench/load.py: one request shape, a unique value in every body.
--
--   wrk ... -s bench/post.lua URL -- METHOD PREFIX CONTENT-TYPE COOKIE BODY
--
-- "{n}" in BODY becomes PREFIX-t<thread>-<counter>, unique in the run (each wrk thread
-- has its own Lua state and counter; the prefix is unique per run). An empty
-- CONTENT-TYPE, COOKIE or BODY is left out.

local threads = 0

function setup(thread)
    threads = threads + 1
    thread:set("id", threads)
end

local method, prefix, body_template
local headers = {}
local counter = 0

function init(args)
    method = args[1]
    prefix = args[2] .. "-t" .. tostring(wrk.thread:get("id"))
    if args[3] ~= "" then headers["Content-Type"] = args[3] end
    if args[4] ~= "" then headers["Cookie"] = args[4] end
    body_template = args[5] or ""
end

function request()
    counter = counter + 1
    local body = nil
    if body_template ~= "" then
        body = body_template:gsub("{n}", prefix .. "-" .. tostring(counter))
    end
    return wrk.format(method, nil, headers, body)
end
