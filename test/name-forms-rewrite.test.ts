// Every name form through compression (active and archived) and fsck --repair (test/helpers/name-forms.ts).
import t from 'tap';
import { checkActions } from './helpers/name-forms.js';

checkActions(t, ['compress', 'compress archived', 'fsck --repair']);
