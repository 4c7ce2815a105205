// Date formatters are costly to build (about 85 µs and 15 KB each): build each
// combination of locale and options once and keep it.
const formats = new Map<string, Intl.DateTimeFormat>();

export function dateFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

/** Whether a time zone name is known to this Node (IANA database). */
export function isTimezone(timezone: string): boolean {
  try {
    dateFormat("en-GB", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}
