// Every name form through delete, archive and unarchive (the property: test/helpers/name-forms.ts).
import t from 'tap';
import { checkActions } from './helpers/name-forms.js';

checkActions(t, ['delete', 'archive', 'unarchive']);
