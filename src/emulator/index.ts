export * from "./endpoints";
export * from "./stacks";
