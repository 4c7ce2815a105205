// Small builders shared by the OpenAPI files (openapi.ts and its per-feature
// parts), so that every part writes schemas the same way.
type Schema = Record<string, unknown>;

export const nullable = (schema: Schema) => ({ anyOf: [schema, { type: "null" }] });
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: Schema, description = "OK") => ({ description, content: { "application/json": { schema } } });
export const body = (schema: Schema, required = true) => ({ required, content: { "application/json": { schema } } });
export const many = (name: string) => json({ type: "array", items: ref(name) });
/** A closed object: every listed property required unless said otherwise. */
export const object = (properties: Schema, required = Object.keys(properties)) => ({ type: "object", additionalProperties: false, required, properties });
export const str = { type: "string" };
export const uri = { type: "string", format: "uri" };
export const date = { type: "string", format: "date-time" };
export const id = { type: "string", pattern: "^\\d+$" };
export const pathId = (name: string) => ({ name, in: "path", required: true, schema: id });
export const idParam = pathId("id");
export const security = (scope: string) => [{ oauth: [scope] }];
export const read = security("read");
export const write = security("write");
