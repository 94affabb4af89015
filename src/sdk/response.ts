import { z } from "zod";

/** coderd's error body: `{message, detail?, validations?: [{field, detail}]}`. */
export const ValidationError = z.object({ field: z.string(), detail: z.string() });
export type ValidationError = z.infer<typeof ValidationError>;

export const CoderResponse = z.object({
  message: z.string(),
  detail: z.string().optional(),
  validations: z.array(ValidationError).optional(),
});
export type CoderResponse = z.infer<typeof CoderResponse>;
