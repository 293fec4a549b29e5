/** What the page remembers between visits, in localStorage (nothing is sent anywhere). */

const PREFIX = "captionist.";

function read(key: string): string | null {
  try {
    return localStorage.getItem(PREFIX + key);
  } catch {
    return null; // storage disabled: preferences last for this page only
  }
}

function write(key: string, value: string): void {
  try {
    localStorage.setItem(PREFIX + key, value);
  } catch {
    // storage disabled or full: nothing to remember it in
  }
}

export const MIN_CAPTION_SIZE = 14;
export const MAX_CAPTION_SIZE = 40;

export const preferences = {
  speakerName: (): string => read("speaker") ?? "",
  setSpeakerName: (name: string) => write("speaker", name),
  deviceId: (): string => read("device") ?? "",
  setDeviceId: (id: string) => write("device", id),
  voiceProcessing: (): boolean => read("voiceProcessing") === "true",
  setVoiceProcessing: (on: boolean) => write("voiceProcessing", String(on)),
  captionSize: (): number => {
    const size = Number(read("captionSize"));
    return size >= MIN_CAPTION_SIZE && size <= MAX_CAPTION_SIZE ? size : 20;
  },
  setCaptionSize: (size: number) => write("captionSize", String(size)),
};
