// Holds a GraphQL request against GitHub's published GraphQL schema (@octokit/graphql-schema):
// the document must validate against the schema, name one operation, and its variables must
// coerce to the operation's variable types. Reads {"query", "variables"} on stdin; prints
// {"errors": [...]} (empty when GitHub would take the request). The contract directory is the
// first argument (the packages installed by scripts/github-contract.sh).
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const contract = process.argv[2];
const require = createRequire(path.join(contract, "package.json"));
const graphql = require("graphql");
const { getVariableValues } = require("graphql/execution/values");
// The introspection result (schema.json), as the package's own validate() reads it: its SDL file
// (schema.graphql) repeats two fields and does not build.
const schemaFile = path.join(contract, "node_modules", "@octokit", "graphql-schema", "schema.json");
const schema = graphql.buildClientSchema(JSON.parse(readFileSync(schemaFile, "utf8")));
const request = JSON.parse(readFileSync(0, "utf8"));
const errors = [];
let document;
try {
  document = graphql.parse(request.query);
} catch (e) {
  errors.push(`syntax: ${e.message}`);
}
if (document) {
  for (const e of graphql.validate(schema, document)) errors.push(e.message);
  const operations = document.definitions.filter((d) => d.kind === "OperationDefinition");
  if (operations.length !== 1) {
    errors.push(`expected one operation, found ${operations.length}`);
  } else if (errors.length === 0) {
    const coerced = getVariableValues(
      schema,
      operations[0].variableDefinitions ?? [],
      request.variables ?? {},
    );
    for (const e of coerced.errors ?? []) errors.push(`variables: ${e.message}`);
  }
}
process.stdout.write(JSON.stringify({ errors }));
