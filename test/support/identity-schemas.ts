/** An identity schema of our own for routing tests: `email` and a `department` from a fixed list, nothing else. */
export const STAFF_SCHEMA = {
  type: "object",
  properties: {
    traits: {
      type: "object",
      properties: { email: { type: "string", format: "email" }, department: { type: "string", enum: ["eng", "ops"] } },
      required: ["email", "department"],
      additionalProperties: false,
    },
  },
};
