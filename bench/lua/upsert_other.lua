-- PUTs of names no running job touches (the job scenarios rename billing_method and import bench_imported).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local c = require("common")
local names = {"support_tier", "vlan_id", "plan_code", "service_region", "credit_limit", "ipv6_enabled",
               "auto_provision", "bench_flag_a", "bench_flag_b"}
init = function(args) c.seed() end
request = function()
  local body = string.format('{"customer_id": %d, "attribute_name": "%s", "attribute_value": "v%d"}',
    math.random(1, c.customers), names[math.random(1, #names)], math.random(1, 1000))
  return wrk.format("PUT", "/crm/attribute/", {["Authorization"] = "Bearer " .. c.token,
                    ["Content-Type"] = "application/json"}, body)
end
