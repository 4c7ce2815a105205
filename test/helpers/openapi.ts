// Checks JSON answers against the OpenAPI document an instance serves.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export type Validate = (schema: string, data: unknown) => string[];

/** Fetches /api/coopol/v1/openapi.json and returns the document and a validator of its component schemas. */
export async function openapiValidator(origin: string): Promise<{ spec: Record<string, any>; validate: Validate }> {
  const spec = (await (await fetch(`${origin}/api/coopol/v1/openapi.json`)).json()) as Record<string, any>;
  // ajv's packages are CommonJS: their constructors are the default exports' defaults.
  const ajv = new Ajv2020.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: "coopol", components: spec.components });
  const validate: Validate = (schema, data) => {
    const check = ajv.getSchema(`coopol#/components/schemas/${schema}`)!;
    return check(data) ? [] : (check.errors ?? []).map((e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message}`);
  };
  return { spec, validate };
}
