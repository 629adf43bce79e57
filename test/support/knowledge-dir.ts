import { fileURLToPath } from 'node:url';

/** The starter knowledge base shipped in `knowledge/`. */
export const KNOWLEDGE_DIR = fileURLToPath(new URL('../../knowledge', import.meta.url));
