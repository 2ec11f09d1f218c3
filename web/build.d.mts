export declare const distIndex: string;
export declare function buildWeb(options?: { quiet?: boolean }): Promise<void>;
export declare function ensureWebBuilt(options?: { quiet?: boolean }): Promise<boolean>;
export declare function webBuildStale(): boolean;
export declare function precompress(dir?: string): void;
