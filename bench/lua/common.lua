-- Shared by the scenario scripts: settings from the environment and a per-thread random seed.
local common = {}
common.token = os.getenv("BENCH_TOKEN") or ""
common.customers = tonumber(os.getenv("BENCH_CUSTOMERS") or "1000")
common.tab = os.getenv("BENCH_TAB") or "1"
common.cookie = os.getenv("BENCH_COOKIE") or ""
common.name = os.getenv("BENCH_NAME") or "support_tier"
common.value = os.getenv("BENCH_VALUE") or "enterprise"
common.names = {"billing_method", "support_tier", "vlan_id", "plan_code", "service_region", "credit_limit",
                "ipv6_enabled", "auto_provision", "bench_flag_a", "bench_flag_b"}
function common.seed()
  math.randomseed(os.time() + math.floor(os.clock() * 1000000) + tonumber(tostring({}):match("0x(%x+)") or "0", 16))
end
return common
