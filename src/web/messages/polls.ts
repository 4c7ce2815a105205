// Messages of the web pages: Polls (sondages). French first; every key has its English twin.
export const fr = {
} as const;

export const en: Record<keyof typeof fr, string> = {
};
