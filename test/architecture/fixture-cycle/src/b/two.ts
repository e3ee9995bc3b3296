import { three } from "../a/three.js";

export const two = () => three;
