package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
request = function()
  return wrk.format("GET", "/customers/" .. c.tab .. "/attributes/", {["Cookie"] = c.cookie})
end
