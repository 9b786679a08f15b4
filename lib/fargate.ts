/** Fargate task sizes: the memory (MiB) AWS allows for each CPU value (units). */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, { min: number; max: number; step: number; extra?: readonly number[] }>> = {
  256: { min: 1024, max: 2048, step: 1024, extra: [512] },
  512: { min: 1024, max: 4096, step: 1024 },
  1024: { min: 2048, max: 8192, step: 1024 },
  2048: { min: 4096, max: 16384, step: 1024 },
  4096: { min: 8192, max: 30720, step: 1024 },
  8192: { min: 16384, max: 61440, step: 4096 },
  16384: { min: 32768, max: 122880, step: 8192 },
};

/** True when Fargate runs a task of this CPU and memory. */
export function fargateMemoryAllowed(cpu: number, memoryMiB: number): boolean {
  const rule = FARGATE_MEMORY_BY_CPU[cpu];
  if (!rule) return false;
  if (rule.extra?.includes(memoryMiB)) return true;
  return memoryMiB >= rule.min && memoryMiB <= rule.max && (memoryMiB - rule.min) % rule.step === 0;
}

/** The memory a CPU value allows, for error messages: "512 or 1024-2048 MiB in steps of 1024". */
export function describeFargateMemory(cpu: number): string {
  const rule = FARGATE_MEMORY_BY_CPU[cpu];
  if (!rule) return `no memory (cpu must be one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(", ")})`;
  const extra = rule.extra ? `${rule.extra.join(", ")} or ` : "";
  return `${extra}${rule.min}-${rule.max} MiB in steps of ${rule.step}`;
}
