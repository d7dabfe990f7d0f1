// `npm start`: the shipped service, a user of the public Node entry like any other
// (test/architecture/imports.test.ts holds it to the public entries).
import { serve } from "../node.js";

await serve();
