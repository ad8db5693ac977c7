#!/usr/bin/env node
// Validates a webhook payload (stdin) against GitHub's own schema for it:
// `x-webhooks` in @octokit/openapi (OpenAPI 3.0: `nullable`, refs into
// `components`). Usage: check-webhook.js NAME < payload.json, where NAME is
// e.g. deployment-protection-rule-requested. Exit 0 when valid, else 1 with
// the violations on stderr.
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

const spec = JSON.parse(
  fs.readFileSync(path.join(__dirname, "node_modules/@octokit/openapi/generated/api.github.com.json"), "utf8"),
);
const name = process.argv[2];
const hook = spec["x-webhooks"][name];
if (!hook) {
  console.error(`no webhook ${name} in the description`);
  process.exit(2);
}
// Ajv refuses `nullable` without `type` (a few webhook schemas have it): there
// it allows null beside whatever else the schema says.
function fixNullable(node) {
  if (Array.isArray(node)) return node.forEach(fixNullable);
  if (!node || typeof node !== "object") return;
  if (node.nullable === true && node.type === undefined) {
    delete node.nullable;
    const rest = { ...node };
    for (const k of Object.keys(node)) delete node[k];
    node.anyOf = [rest, { type: "null" }];
    return fixNullable(rest);
  }
  Object.values(node).forEach(fixNullable);
}
fixNullable(spec.components);
fixNullable(spec["x-webhooks"]);
const schema = hook.post.requestBody.content["application/json"].schema;
const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
addFormats(ajv);
ajv.addFormat("uri-template", true);
const validate = ajv.compile({ ...schema, components: spec.components });
const payload = JSON.parse(fs.readFileSync(0, "utf8"));
if (!validate(payload)) {
  for (const e of validate.errors) {
    console.error(`${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
  }
  // Not process.exit: it would cut the messages still on their way to a pipe.
  process.exitCode = 1;
}
