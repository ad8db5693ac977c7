#!/usr/bin/env node
// GitHub's GraphQL endpoint for the GitHub test server. Every query is parsed
// and validated against GitHub's published schema (@octokit/graphql-schema);
// a query GitHub would refuse gets GitHub's answer (200 with `errors`) and the
// header `x-graphql-violations`, which the test harness records as Prism's
// `sl-violations` are. A valid query is executed by graphql-js against the
// repository state the Rust test server holds (`GET UPSTREAM/_graphql/OWNER/REPO`),
// with GitHub's connection rules: `first` or `last` required, at most 100.
//
// Usage: graphql-server.js PORT UPSTREAM
const fs = require("fs");
const http = require("http");
const path = require("path");
const { buildClientSchema, parse, validate, execute, visit } = require("graphql");

const [port, upstream] = process.argv.slice(2);
// The introspection result, as the package's own validator reads it (its SDL
// defines a few enterprise fields twice, which graphql-js refuses).
const introspection = fs.readFileSync(path.join(__dirname, "node_modules/@octokit/graphql-schema/schema.json"), "utf8");
const schema = buildClientSchema(JSON.parse(introspection));

class Upstream extends Error {
  constructor(status, body) {
    super(`upstream ${status}`);
    this.status = status;
    this.body = body;
  }
}

const cursor = (i) => Buffer.from(`cursor:${i}`).toString("base64");
const uncursor = (c) => Number(Buffer.from(c, "base64").toString().replace(/^cursor:/, ""));

// A page of `list` as GitHub's connections hand it out.
function connection(list, args, name, whole = false) {
  if (args.first == null && args.last == null) {
    throw new Error(`You must provide a \`first\` or \`last\` value to properly paginate the \`${name}\` connection.`);
  }
  for (const k of ["first", "last"]) {
    if (args[k] != null && (args[k] < 0 || args[k] > 100)) {
      throw new Error(`Requesting ${args[k]} records on the \`${name}\` connection exceeds the \`${k}\` limit of 100 records.`);
    }
  }
  let start = args.after ? uncursor(args.after) + 1 : 0;
  let end = args.before ? uncursor(args.before) : list.length;
  if (args.first != null && !whole) end = Math.min(end, start + args.first);
  if (args.last != null && !whole) start = Math.max(start, end - args.last);
  const nodes = list.slice(start, end);
  return {
    nodes,
    edges: nodes.map((node, i) => ({ node, cursor: cursor(start + i) })),
    totalCount: list.length,
    pageInfo: {
      hasNextPage: end < list.length,
      hasPreviousPage: start > 0,
      startCursor: nodes.length ? cursor(start) : null,
      endCursor: nodes.length ? cursor(end - 1) : null,
    },
  };
}

const actor = (user) => ({
  __typename: user && user.type === "Bot" ? "Bot" : "User",
  login: user ? user.login : "ghost",
  url: user ? user.html_url : "",
});

function status(s) {
  return {
    __typename: "DeploymentStatus",
    id: s.node_id,
    state: String(s.state || "pending").toUpperCase(),
    description: s.description || null,
    environment: s.environment || null,
    environmentUrl: s.environment_url || null,
    logUrl: s.log_url || null,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
    creator: actor(s.creator),
  };
}

function deployment(d, statuses) {
  const list = (statuses || []).map(status);
  const ref = String(d.ref || "");
  const short = ref.replace(/^refs\/(heads|tags)\//, "");
  return {
    __typename: "Deployment",
    id: d.node_id,
    databaseId: d.id,
    payload: JSON.stringify(d.payload ?? {}),
    task: d.task,
    environment: d.environment,
    originalEnvironment: d.original_environment,
    latestEnvironment: d.environment,
    description: d.description,
    commitOid: d.sha,
    ref: /^[0-9a-f]{40}$/.test(ref) ? null : { __typename: "Ref", id: "REF_node", name: short, prefix: ref.startsWith("refs/tags/") ? "refs/tags/" : "refs/heads/" },
    createdAt: d.created_at,
    updatedAt: d.updated_at,
    creator: actor(d.creator),
    state: list.length ? list[list.length - 1].state : "PENDING",
    latestStatus: list.length ? list[list.length - 1] : null,
    statuses: (args) => connection(list, args, "statuses"),
  };
}

async function repository(args, ctx) {
  const res = await fetch(`${upstream}/_graphql/${encodeURIComponent(args.owner)}/${encodeURIComponent(args.name)}`, {
    headers: { authorization: ctx.authorization || "" },
  });
  const body = await res.text();
  if (res.status !== 200) throw new Upstream(res.status, body);
  const state = JSON.parse(body);
  if (state.graphql_error) {
    ctx.extra.push(state.graphql_error);
    return null;
  }
  return {
    __typename: "Repository",
    nameWithOwner: `${args.owner}/${args.name}`,
    deployments: (a) => {
      let list = state.deployments.slice();
      if (a.environments) list = list.filter((d) => a.environments.includes(d.environment));
      const desc = !a.orderBy || a.orderBy.direction === "DESC";
      list.sort((x, y) => (x.created_at < y.created_at ? -1 : x.created_at > y.created_at ? 1 : x.id - y.id));
      if (desc) list.reverse();
      const nodes = list.map((d) => deployment(d, state.statuses[String(d.id)]));
      return connection(nodes, a, "deployments", state.whole_pages);
    },
  };
}

// owner/name of the repository a query asks for, for the harness's records.
function repoOf(doc, variables) {
  let out = "";
  visit(doc, {
    Field(node) {
      if (node.name.value !== "repository" || out) return;
      const arg = (n) => {
        const a = (node.arguments || []).find((x) => x.name.value === n);
        if (!a) return "";
        return a.value.kind === "Variable" ? String((variables || {})[a.value.name.value] ?? "") : String(a.value.value ?? "");
      };
      out = `${arg("owner")}/${arg("name")}`;
    },
  });
  return out;
}

// Header-safe text: printable ASCII only.
const plain = (s) => String(s).replace(/[^\x20-\x7e]/g, "?");

function reply(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

http
  .createServer((req, res) => {
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (raw += c));
    req.on("end", async () => {
      if (req.method !== "POST") return reply(res, 404, { message: "Not Found" });
      if (!req.headers.authorization) {
        return reply(res, 401, { message: "This endpoint requires you to be authenticated." });
      }
      let request;
      let doc;
      try {
        request = JSON.parse(raw);
        doc = parse(String(request.query));
      } catch (e) {
        const violation = `the query does not parse: ${e.message}`;
        return reply(res, 200, { errors: [{ message: e.message }] }, { "x-graphql-violations": plain(violation) });
      }
      const repo = repoOf(doc, request.variables);
      const headers = { "x-graphql-repo": plain(repo) };
      const invalid = validate(schema, doc);
      if (invalid.length) {
        const violation = invalid.map((e) => e.message).join("; ");
        headers["x-graphql-violations"] = plain(violation);
        return reply(res, 200, { errors: invalid.map((e) => ({ message: e.message, locations: e.locations })) }, headers);
      }
      const ctx = { authorization: req.headers.authorization, extra: [] };
      const root = { repository: (args) => repository(args, ctx) };
      try {
        const result = await execute({ schema, document: doc, rootValue: root, contextValue: ctx, variableValues: request.variables });
        const fault = (result.errors || []).map((e) => e.originalError).find((e) => e instanceof Upstream);
        if (fault) return reply(res, fault.status, fault.body, headers);
        const errors = [...ctx.extra, ...(result.errors || []).map((e) => ({ message: e.message, path: e.path }))];
        const body = errors.length ? { data: result.data, errors } : { data: result.data };
        return reply(res, 200, body, headers);
      } catch (e) {
        return reply(res, 500, { message: String(e && e.message) }, headers);
      }
    });
  })
  .listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
