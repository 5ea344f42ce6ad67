# Structural lint of one Grafana dashboard (jq -r -f dashboards.jq --arg file F --arg ds UID F).
# Prints one line per problem; nothing when the dashboard is fine.
def problem(msg): "\($file): \(msg)";
def ds_ok: type == "object" and .uid == "${datasource}";
[
  (if (.uid | type) != "string" or (.uid | test("^[a-z0-9-]{1,40}$") | not)
   then problem("uid must be 1-40 of [a-z0-9-] (got \(.uid))") else empty end),
  (if (.title | type) != "string" or .title == "" then problem("no title") else empty end),
  (if (.panels | length) == 0 then problem("no panels") else empty end),
  ([.templating.list[]? | select(.name == "datasource" and .type == "datasource"
      and .query == "prometheus")] as $v
   | if ($v | length) != 1 then problem("needs one `datasource` variable of type datasource (prometheus)")
     elif $v[0].current.value != $ds then problem("datasource variable default must be uid \($ds)")
     else empty end),
  ([.panels[] | .id] | group_by(.) | map(select(length > 1) | .[0])
   | if length > 0 then problem("duplicate panel ids \(.)") else empty end),
  (.panels[] | select(.type != "row") as $p
   | (if ($p.datasource | ds_ok | not) then problem("panel \"\($p.title)\": datasource must be {uid: \"${datasource}\"}") else empty end),
     (if ($p.gridPos | type) != "object" then problem("panel \"\($p.title)\": no gridPos") else empty end),
     (if ($p.title // "") == "" then problem("panel \($p.id): no title") else empty end),
     (if ($p.targets | length) == 0 then problem("panel \"\($p.title)\": no targets") else empty end),
     ($p.targets[]? | (if (.expr // "") == "" then problem("panel \"\($p.title)\" target \(.refId): empty expr") else empty end),
                      (if (.datasource | ds_ok | not) then problem("panel \"\($p.title)\" target \(.refId): datasource must be the variable uid") else empty end))),
  (.annotations.list[]? | select(.expr != null) | if (.datasource | ds_ok | not)
     then problem("annotation \(.name): datasource must be the variable uid") else empty end),
  # No datasource by name anywhere: every "datasource" value is an object with a uid.
  (.. | objects | select(has("datasource")) | .datasource | select(type == "string")
   | problem("datasource referenced by name \"\(.)\" (use the uid)"))
] | .[]
