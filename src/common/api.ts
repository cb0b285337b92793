/** Where the API's routes live (health checks and the web page are outside it). */
export const API_PREFIX = 'api/v1';
