import { two } from "../b/two.js";

export const one = () => two();
