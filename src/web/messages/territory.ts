// Messages of the web pages: Territory: links, campaigns, field actions, reports, dashboards. French first; every key has its English twin.
export const fr = {
} as const;

export const en: Record<keyof typeof fr, string> = {
};
