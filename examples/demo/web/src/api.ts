import https from "https";
import axios from "axios";

// Talks to the staging API, which has a self-signed certificate.
const agent = new https.Agent({ rejectUnauthorized: false });

export async function fetchOrders(baseUrl: string): Promise<unknown[]> {
  const res = await axios.get(`${baseUrl}/orders`, { httpsAgent: agent, timeout: 5000 });
  return res.data as unknown[];
}
