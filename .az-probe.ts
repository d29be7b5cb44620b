import { startLocalAzurite } from "./src/storage/localAzurite.js";
const a = await startLocalAzurite();
console.log(a.connectionString);
setTimeout(() => a.stop(), 3_000_000);
