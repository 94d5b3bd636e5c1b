/** Types of scripts/gen-plan-table.mjs for the unit test that checks the generated table. */
export function generate(): string;
